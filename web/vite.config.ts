/**
 * One Vite project, three apps, each built on its own into dist/<app>/ with its own base path
 * (`npm run build` runs `vite build --mode <app>` for each):
 *   desk        dist/desk/        served at /desk/        (agent desktop)
 *   supervisor  dist/supervisor/  served at /supervisor/  (supervisor's live view)
 *   webchat     dist/webchat/     served at /webchat/     (widget.js, one IIFE file, and the demo page)
 * `vitest` runs the *.test.ts files with the same settings.
 */
import { fileURLToPath } from "node:url";

import { defineConfig, type UserConfig } from "vite";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

const shared: UserConfig = {
  // Preact's automatic JSX runtime, without a Babel-based plugin.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  resolve: { alias: { react: "preact/compat", "react-dom": "preact/compat" } },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  clearScreen: false,
  logLevel: "warn",
};

function page(app: "desk" | "supervisor"): UserConfig {
  return {
    ...shared,
    root: here(`./${app}`),
    base: `/${app}/`,
    publicDir: here("./public"),
    build: {
      outDir: here(`./dist/${app}`),
      emptyOutDir: true,
      target: "es2022",
      sourcemap: true,
    },
  };
}

function webchat(): UserConfig {
  return {
    ...shared,
    base: "/webchat/",
    // The demo page and its icon are copied as they are; the widget is the only code.
    publicDir: here("./webchat/public"),
    build: {
      outDir: here("./dist/webchat"),
      emptyOutDir: true,
      target: "es2020",
      sourcemap: true,
      lib: {
        entry: here("./webchat/widget.tsx"),
        name: "ParleyWebChat",
        formats: ["iife"],
        fileName: () => "widget.js",
      },
    },
  };
}

export default defineConfig(({ mode }) => {
  switch (mode) {
    case "desk":
    case "supervisor":
      return page(mode);
    case "webchat":
      return webchat();
    default:
      // `vitest` and `vite` without a mode: the shared settings, rooted here.
      return { ...shared, test: { include: ["**/*.test.ts"], exclude: ["node_modules/**", "dist/**"] } };
  }
});
