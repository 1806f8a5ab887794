import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { setBackend } from './app/controller';
import { openHash, startFromAddress } from './app/shareController';
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
// #share=… (a share link) and #tour=… open on top of the model; a later change of the fragment too.
void startFromAddress(params.get('model') ?? undefined, location.hash);
addEventListener('hashchange', () => void openHash(location.hash));
