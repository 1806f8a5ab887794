import { DropZone } from './components/DropZone';
import { ErrorBanner } from './components/ErrorBanner';
import { Header } from './components/Header';
import { AttentionPanel, LayerTable } from './components/LayerTable';
import { MetricsPanel } from './components/MetricsPanel';
import { ModelCardPanel } from './components/ModelCardPanel';
import { PruneResults } from './components/PruneResults';
import { RecipePanel } from './components/RecipePanel';

export function App() {
  return (
    <>
      <Header />
      <ErrorBanner />
      <main>
        <ModelCardPanel />
        <MetricsPanel />
        <RecipePanel />
        <AttentionPanel />
        <PruneResults />
        <LayerTable />
      </main>
      <DropZone />
    </>
  );
}
