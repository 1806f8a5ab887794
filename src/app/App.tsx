// The workbench: a one-line statement, the model and the recipe on the left, the result (selected
// run against dense) in the middle above the fold, the run list and the detail tabs below it.
import { DetailTabs } from './components/DetailTabs';
import { DropZone } from './components/DropZone';
import { ErrorBanner } from './components/ErrorBanner';
import { Header } from './components/Header';
import { LiveRegion } from './components/LiveRegion';
import { ModelPanel } from './components/ModelPanel';
import { RecipeBuilder } from './components/RecipeBuilder';
import { ResultPanel } from './components/ResultPanel';
import { RunList } from './components/RunList';
import { SharedResult } from './components/SharedResult';
import { TextPanel } from './components/TextPanel';

export function App() {
  return (
    <>
      <Header />
      <ErrorBanner />
      <div className="workbench">
        <aside className="controls" aria-label="Model and recipe">
          <ModelPanel />
          <TextPanel />
          <RecipeBuilder />
        </aside>
        <main className="results">
          <SharedResult />
          <ResultPanel />
          <RunList />
          <DetailTabs />
        </main>
      </div>
      <LiveRegion />
      <DropZone />
    </>
  );
}
