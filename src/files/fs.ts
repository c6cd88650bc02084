/**
 * The promise forms of the node:fs calls that reading inputs and writing outputs make, over node:fs's
 * callbacks (the same libuv requests): node:fs/promises costs a start 1-2 ms to load, with the readline
 * and watcher modules it brings (bench/startup.md, "Round 4: artifacts"), for the few calls a verb makes.
 */
import { closeSync, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readlinkSync, realpathSync, renameSync, rmSync, statSync, writeFileSync, type Stats } from 'node:fs';
import { chmod as chmodCb, close as closeCb, fchmod as fchmodCb, fstat as fstatCb, fsync as fsyncCb, lstat as lstatCb, mkdir as mkdirCb, open as openCb, readdir as readdirCb, readlink as readlinkCb, realpath as realpathCb, rename as renameCb, rm as rmCb, stat as statCb, writeFile as writeFileCb } from 'node:fs';
import { promisify } from 'node:util';

export const chmod = promisify(chmodCb);
export const lstat = promisify(lstatCb);
export const mkdir = promisify(mkdirCb);
export const readdir = promisify(readdirCb);
export const readlink = promisify(readlinkCb);
export const realpath = promisify(realpathCb);
export const rename = promisify(renameCb);
export const rm = promisify(rmCb);
export const stat = promisify(statCb);
/** open(2): a descriptor, not a FileHandle. */
export const openFd = promisify(openCb);
export const fstatFd = promisify(fstatCb);
export const fchmodFd = promisify(fchmodCb);
export const fsyncFd = promisify(fsyncCb);
export const closeFd = promisify(closeCb);
/** All of `data` into `fd` from its current position (the descriptor stays open). */
export const writeFd = promisify(writeFileCb) as (fd: number, data: string | Uint8Array) => Promise<void>;

/** The calls src/files/atomic.ts makes for a regular file, in two forms with one shape. */
export interface FsCalls {
  lstat(path: string): Promise<Stats>;
  stat(path: string): Promise<Stats>;
  readlink(path: string): Promise<string>;
  realpath(path: string): Promise<string>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<unknown>;
  openFd(path: string, flags: string, mode?: number): Promise<number>;
  writeFd(fd: number, data: string | Uint8Array): Promise<void>;
  fchmodFd(fd: number, mode: number): Promise<void>;
  fsyncFd(fd: number): Promise<void>;
  closeFd(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: true }): Promise<void>;
}

/** Through libuv's thread pool: the event loop runs on meanwhile (a slow fsync blocks nobody). */
export const threadedFs: FsCalls = { lstat, stat, readlink, realpath, mkdir, openFd, writeFd, fchmodFd, fsyncFd, closeFd, rename, rm };

/** A blocking call with the promise form's outcome: its error as a rejection, not a throw. */
const now =
  <A extends unknown[], R>(f: (...a: A) => R) =>
  (...a: A): Promise<R> => {
    try {
      return Promise.resolve(f(...a));
    } catch (e) {
      return Promise.reject(e);
    }
  };

/**
 * The same calls made with node:fs's blocking forms, for a process with one file to write and nothing
 * else to do meanwhile (the CLI's one-VM kubeconfig): no thread pool to start (~0.4 ms) and no hop
 * through it per call; the write of a kubeconfig took ~1.2 ms instead of ~2.4 (bench/startup.md).
 */
export const blockingFs: FsCalls = {
  lstat: now((p: string) => lstatSync(p)),
  stat: now((p: string) => statSync(p)),
  readlink: now((p: string) => readlinkSync(p)),
  realpath: now((p: string) => realpathSync(p)),
  mkdir: now(mkdirSync),
  openFd: now(openSync),
  writeFd: now(writeFileSync),
  fchmodFd: now(fchmodSync),
  fsyncFd: now(fsyncSync),
  closeFd: now(closeSync),
  rename: now(renameSync),
  rm: now(rmSync),
};
