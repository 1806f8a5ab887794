// The lab's version, written into every experiment record and share link: the same as
// package.json's (a test keeps them equal), importable in the browser, the worker and the CLI.
export const LAB_VERSION = '0.1.0';
