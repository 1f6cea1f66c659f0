/**
 * The workbench's views, one route each (hash history: works from file:// in Electron and from `serve`).
 * The nav bar is built from this list: a route with `meta.title` gets an entry, in this order.
 */
import { type RouteRecordRaw, createRouter, createWebHashHistory } from 'vue-router'
import RunsView from './views/RunsView.vue'

declare module 'vue-router' {
  interface RouteMeta {
    /** the nav bar's label */
    title?: string
  }
}

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/runs' },
  { path: '/datasets', name: 'datasets', component: () => import('./views/DatasetsView.vue'), meta: { title: 'Datasets' } },
  // a clip opened from elsewhere (the embedding map's selection): the dataset selected, the clip inspected
  { path: '/datasets/:name', name: 'dataset-clip', component: () => import('./views/DatasetsView.vue') },
  { path: '/train', name: 'train', component: () => import('./views/TrainView.vue'), meta: { title: 'Train' } },
  { path: '/runs', name: 'runs', component: RunsView, meta: { title: 'Runs' } },
  // a run's page: the run selected, its curves, checkpoints and evaluations
  { path: '/runs/:name', name: 'run', component: RunsView },
  { path: '/retrieval', name: 'retrieval', component: () => import('./views/RetrievalView.vue'), meta: { title: 'Retrieval' } },
  { path: '/embeddings', name: 'embeddings', component: () => import('./views/EmbeddingsView.vue'), meta: { title: 'Embeddings' } }
]

export const router = createRouter({ history: createWebHashHistory(), routes })
