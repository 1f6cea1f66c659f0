import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        input: {
          index: resolve(__dirname, 'src/main/index.ts'),
          // the engine process of the app (a utilityProcess): jobs never run on the main thread
          'engine-host': resolve(__dirname, 'src/main/jobs/engine-host.ts'),
          // the workers a prepare job forks (decode + fbank + frames, one shard each)
          'prepare-worker': resolve(__dirname, 'src/main/data/prepare-worker.ts'),
          // the data-parallel engine workers of training and embedding jobs (worker threads of the engine process)
          'engine-worker': resolve(__dirname, 'src/main/engine/train/parallel/worker.ts'),
          // the worker threads of the main process that compute the embedding map's projections (UMAP) off its event loop
          'map-worker': resolve(__dirname, 'src/main/analysis/map-worker.ts')
        }
      }
    }
  },
  preload: {
    build: {
      // a sandboxed preload must be CommonJS
      rollupOptions: { input: { index: resolve(__dirname, 'src/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' } }
    }
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    build: {
      rollupOptions: { input: { index: resolve(__dirname, 'src/renderer/index.html') } }
    },
    plugins: [vue()]
  }
})
