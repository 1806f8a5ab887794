import { docLink } from '../glossary';
import { ToursMenu } from './Tour';

export function Header() {
  return (
    <header className="header">
      <h1>Compression Lab</h1>
      <p className="tagline">Compress a small transformer in your browser — prune, quantize, calibrate its attention — and see what each choice costs; nothing leaves this page.</p>
      <a className="header-link" href={docLink('concepts')} target="_blank" rel="noreferrer">
        How it works
      </a>
      <ToursMenu />
    </header>
  );
}
