/**
 * The CLI's own usage errors, one factory per case. The library's errors live in their domains
 * (src/agent/errors.ts, src/kubeconfig/errors.ts, src/files/errors.ts, ...); these are what only the
 * command line can get wrong. */
import { QksError } from '../errors.js';

/** commander's own complaint (unknown option, missing argument), in its words without "error: ". */
export function commanderUsage(message: string): QksError {
  return new QksError('USAGE', message.replace(/^error: /, ''));
}

export function noCommand(): QksError {
  return new QksError('USAGE', 'no command given', { hint: 'Run qemu-kubesolo --help.' });
}

/** `agent execute COMMAND ARGS`: ARGS must be one JSON object. */
export function argumentsNotJson(e: Error): QksError {
  return new QksError('USAGE', `arguments: not JSON (${e.message})`, { hint: `Quote the object, e.g. '{"path":"/etc/hostname"}'.` });
}

export function argumentsNotObject(): QksError {
  return new QksError('USAGE', 'arguments: must be a JSON object');
}

/** fake-agent --file / --file-after: `expected` is the form the flag takes. */
export function fileSpecInvalid(flag: string, spec: string, expected: string): QksError {
  return new QksError('USAGE', `${flag} ${spec}: expected ${expected}`);
}

export function cannotListen(socket: string, e: NodeJS.ErrnoException): QksError {
  return new QksError('USAGE', `cannot listen on ${socket}: ${e.code ?? e.message}`, { hint: 'Pick a path in a writable directory that no other process listens on.' });
}

/** Two outputs that would both go to stdout. */
export function stdoutTwice(what: string, hint: string): QksError {
  return new QksError('USAGE', `${what} both write to stdout`, { hint });
}

export function vmNamesFileMissing(path: string): QksError {
  return new QksError('INPUT_NOT_FOUND', `--vm-names-file ${path}: ENOENT`, { hint: 'Give a file with one VM name per line.' });
}

/** `iso FILE...`: the iso verb's words for the generic input errors (src/files/errors.ts). */
export function isoInputMissing(path: string): QksError {
  return new QksError('INPUT_NOT_FOUND', `input file ${path} does not exist`, { hint: 'Check the path; write NAME=PATH to choose the name in the ISO.', details: { path } });
}

export function isoInputIsDirectory(path: string): QksError {
  return new QksError('USAGE', `${path} is a directory; the iso verb takes files`, { hint: 'Name each file, e.g. openstack/latest/meta_data.json=./meta_data.json.', details: { path } });
}

/** stdout's reader went away before everything was written (`| head`): exit 141, as SIGPIPE. */
export function stdoutClosed(errno: string | undefined): QksError {
  return new QksError('STDOUT_CLOSED', 'stdout was closed before all output was written (EPIPE)', { hint: 'Whatever read the output stopped early.', details: { errno } });
}

/** Writing stdout failed otherwise (`> /dev/full`, an I/O error). */
export function stdoutFailed(e: NodeJS.ErrnoException): QksError {
  return new QksError('STDOUT_FAILED', `cannot write to stdout: ${e.message}`, { hint: e.code === 'ENOSPC' ? 'The disk is full.' : 'Check where stdout goes.', details: { errno: e.code } });
}
