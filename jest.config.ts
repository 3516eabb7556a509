/** @jest-config-loader esbuild-register */
import type { Config } from "jest";

const config: Config = {
  testEnvironment: "node",
  // Jest 30's "soft" clean-up of globals between test files wraps data properties in a setter that
  // calls itself (RangeError: Maximum call stack size exceeded, seen on event emitters); the test
  // files run one at a time in one process and leave nothing large on the global scope.
  testEnvironmentOptions: { globalsCleanup: "off" },
  roots: ["<rootDir>/test"],
  extensionsToTreatAsEsm: [".ts"],
  moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
  transform: {
    "^.+\\.ts$": [
      "@swc/jest",
      { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "es6" } },
    ],
  },
  testTimeout: 60_000,
  // One test file at a time: the openCryptoki profile uses machine-wide state (and locks it), and the
  // token tests are CPU-bound on CI's two cores anyway.
  maxWorkers: 1,
  globalSetup: "<rootDir>/test/setup/global-setup.ts",
  globalTeardown: "<rootDir>/test/setup/global-teardown.ts",
};
export default config;
