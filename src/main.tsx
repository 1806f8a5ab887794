import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { start, setBackend } from './app/controller';
import type { BackendPreference } from './core/eval/runner';
import './app/styles.css';

// ?model=<bundled id> and ?backend=auto|webgpu|wasm select what the page opens with.
const params = new URLSearchParams(location.search);
const backend = params.get('backend');
if (backend === 'auto' || backend === 'webgpu' || backend === 'wasm') setBackend(backend as BackendPreference);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
void start(params.get('model') ?? undefined);
