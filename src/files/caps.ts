/** Size caps of the inputs users name (pure constants: the template renderer checks text it is given too). */

/** The size cap of each kind of input, in bytes (the README's "Input caps" table). */
export const INPUT_CAPS = {
  /** An OpenSSH public key line: a 16384-bit RSA key is about 2.8 KB. */
  sshKey: 64 * 1024,
  /** A cloud-init template (user-data, meta-data, network-config). */
  template: 1024 * 1024,
  /** An inventory of VMs. */
  inventory: 4 * 1024 * 1024,
  /** A list of VM names (kubeconfig --vm-names-file). */
  namesFile: 1024 * 1024,
  /** One file packed into an ISO by the iso verb. */
  isoFile: 256 * 1024 * 1024,
  /** One local file the fake agent serves (fake-agent --file). */
  fakeAgentFile: 256 * 1024 * 1024,
} as const;
export type InputKind = keyof typeof INPUT_CAPS;
