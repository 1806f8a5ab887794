import { DropZone } from './components/DropZone';
import { ErrorBanner } from './components/ErrorBanner';
import { Header } from './components/Header';
import { AttentionPanel, LayerTable } from './components/LayerTable';
import { MetricsPanel } from './components/MetricsPanel';
import { ModelCardPanel } from './components/ModelCardPanel';

export function App() {
  return (
    <>
      <Header />
      <ErrorBanner />
      <main>
        <ModelCardPanel />
        <MetricsPanel />
        <AttentionPanel />
        <LayerTable />
      </main>
      <DropZone />
    </>
  );
}
