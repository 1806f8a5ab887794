// A dropped folder's JSON pieces read and checked against the graph they came with, all or
// nothing: config.json (readHfConfig), tokenizer.json (loadHfTokenizer, through tokenizers.js) and
// their agreement with the analysis (folderDisagreements). Any failure is one line naming the file
// and the field, thrown before the caller replaces the model it holds — a bad folder loses nothing.
import type { ModelAnalysis } from '../model/types.ts';
import { folderDisagreements } from './agreement.ts';
import { readHfConfig, type HfConfig } from './config.ts';
import { hfContextLength, parseFolderJson } from './folderJson.ts';
import { loadHfTokenizer, type HfTokenizer } from './tokenizer.ts';

export class FolderDisagreementError extends Error {
  override name = 'FolderDisagreementError';
}

/** The folder's JSON files as read from disk: each with the path it was dropped under. */
export interface FolderJsonFiles {
  config?: { file: string; text: string };
  tokenizer?: { file: string; text: string };
  tokenizerConfig?: { file: string; text: string };
}

export interface CheckedFolder {
  config?: HfConfig;
  /** config.json parsed, for the download (its other entries are kept). */
  configJson?: unknown;
  contextLength?: number;
  tokenizer?: HfTokenizer;
}

export function checkFolderPieces(analysis: ModelAnalysis, files: FolderJsonFiles): CheckedFolder {
  const configJson = files.config && parseFolderJson(files.config.text, files.config.file);
  const config = files.config && readHfConfig(configJson, files.config.file);
  const contextLength = files.config && hfContextLength(configJson, files.config.file);
  const tokenizerConfig = files.tokenizerConfig ? parseFolderJson(files.tokenizerConfig.text, files.tokenizerConfig.file) : {};
  const tokenizer = files.tokenizer && loadHfTokenizer(parseFolderJson(files.tokenizer.text, files.tokenizer.file), tokenizerConfig, files.tokenizer.file);
  const problems = folderDisagreements(analysis, {
    ...(files.config && config ? { config: { file: files.config.file, config } } : {}),
    ...(files.tokenizer && tokenizer ? { tokenizer: { file: files.tokenizer.file, vocabSize: tokenizer.vocabSize } } : {}),
  });
  // One line even when several fields disagree: the first names the file, the rest follow it.
  if (problems.length > 0) throw new FolderDisagreementError(problems.join('; '));
  return { config, configJson, contextLength, tokenizer };
}
