/**
 * The promise forms of the node:fs calls that reading inputs and writing outputs make, over node:fs's
 * callbacks (the same libuv requests): node:fs/promises costs a start 1-2 ms to load, with the readline
 * and watcher modules it brings (bench/startup.md, "Round 4: artifacts"), for the few calls a verb makes.
 */
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
