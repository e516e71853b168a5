// The part of fengari's API (Lua 5.3 in JavaScript; the package ships no types) that test/argocd-health.test.ts uses.
declare module 'fengari' {
  type LuaState = unknown;
  export const lua: {
    LUA_OK: number;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_tostring(L: LuaState, index: number): Uint8Array | null;
  };
  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadstring(L: LuaState, source: Uint8Array): number;
  };
  export const lualib: { luaL_openlibs(L: LuaState): void };
  export function to_luastring(text: string): Uint8Array;
  export function to_jsstring(text: Uint8Array | null): string;
}
