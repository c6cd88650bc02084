# Make targets of the integration guide. Every variable of the guide's table is read by the tool
# itself from the environment (SSH_PUBLIC_KEY, VM_USER, VM_PASSWORD, VM_HOSTNAME, AUTO_INSTALL_KUBESOLO,
# KUBESOLO_RELEASE, KUBECONFIG_API_ADDRESS, LIBVIRT_URI, ARTIFACTS_DIR), so
#   AUTO_INSTALL_KUBESOLO=true make artifacts
# works as the guide says.
CLI := node dist/qemu-kubesolo.mjs

.PHONY: artifacts kubeconfig-agent kubeconfig iso doctor demo test test-vm test-all bench bundle build clean

dist/qemu-kubesolo.mjs: node_modules/.package-lock.json $(shell find src templates -type f 2>/dev/null)
	npm run --silent bundle

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts

artifacts: dist/qemu-kubesolo.mjs
	$(CLI) artifacts --create-iso

kubeconfig-agent: dist/qemu-kubesolo.mjs
	$(CLI) kubeconfig --method guest-agent --wait

kubeconfig: dist/qemu-kubesolo.mjs
	$(CLI) kubeconfig --method ssh

doctor: dist/qemu-kubesolo.mjs
	$(CLI) doctor

demo: dist/qemu-kubesolo.mjs
	$(CLI) demo

build:
	npm run build

bundle: dist/qemu-kubesolo.mjs

test:
	npm test

test-vm:
	npm run test:vm

test-all:
	npm run test:all

bench: dist/qemu-kubesolo.mjs
	npm run bench

clean:
	rm -rf dist .cache
