// Entry point of `npm run lab`: see src/cli/main.ts.
import { main } from '../src/cli/main';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`error: ${e.message}`);
    process.exit(1);
  },
);
