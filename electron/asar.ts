/**
 * In a packaged app the code lives in `app.asar`; files listed in electron-builder's `asarUnpack`
 * sit beside it in `app.asar.unpacked`. Electron's `fs` and native-module loading follow that
 * redirection by themselves, but a spawned executable (the bundled PostgreSQL's `initdb` and
 * `postgres`) must be given the real, unpacked path. Outside an asar the path is returned as is.
 */
export function unpackedPath(p: string): string {
  return p.replace(/([\\/])app\.asar([\\/])/, '$1app.asar.unpacked$2');
}
