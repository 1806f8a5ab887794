// Fetches the bundled models (public/models) over HTTP: the index, a model card, its ONNX bytes,
// its evaluation and calibration sets, and its vocabulary when it has one.
import { parseModelCard, type ModelCard, type ModelIndex } from '../core/catalog/modelCard';
import { parseVocab, type CharVocab } from '../core/catalog/vocab';
import { parseDataset, type Dataset, type LmTokenDataset } from '../core/eval/datasets';

const base = `${import.meta.env.BASE_URL}models/`;

async function fetchOk(url: string): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`Could not fetch ${url}: HTTP ${res.status}`);
  return res;
}

export async function fetchModelIndex(): Promise<ModelIndex> {
  return (await fetchOk(`${base}index.json`)).json();
}

export interface BundledModel {
  card: ModelCard;
  bytes: ArrayBuffer;
  dataset: Dataset;
  /** calib.json: disjoint from the evaluation set. */
  calibSet: Dataset;
  /** vocab.json, when the card names one (files.vocab): the teaching view tokenizes prompts with it. */
  vocab?: CharVocab;
}

export async function fetchBundledModel(id: string): Promise<BundledModel> {
  const cardUrl = `${base}${id}/model.json`;
  const card = parseModelCard(await (await fetchOk(cardUrl)).json(), cardUrl);
  if (!card.files.calib) throw new Error(`${cardUrl}: files.calib is required for a bundled model`);
  const vocabPath = card.files.vocab;
  const [bytes, evalJson, calibJson, vocabJson] = await Promise.all([
    fetchOk(`${base}${id}/${card.files.model}`).then((r) => r.arrayBuffer()),
    fetchOk(`${base}${id}/${card.files.eval}`).then((r) => r.json()),
    fetchOk(`${base}${id}/${card.files.calib}`).then((r) => r.json()),
    vocabPath ? fetchOk(`${base}${id}/${vocabPath}`).then((r) => r.json()) : undefined,
  ]);
  return {
    card,
    bytes,
    dataset: parseDataset(evalJson, `${id}/${card.files.eval}`),
    calibSet: parseDataset(calibJson, `${id}/${card.files.calib}`),
    vocab: vocabPath ? parseVocab(vocabJson, `${id}/${vocabPath}`) : undefined,
  };
}

/** A bundled LM's text only (its card, calibration and evaluation sets and vocabulary), not its model. */
export async function fetchBundledCorpus(id: string): Promise<{ dataset: LmTokenDataset; calibSet: LmTokenDataset; vocab: CharVocab }> {
  const cardUrl = `${base}${id}/model.json`;
  const card = parseModelCard(await (await fetchOk(cardUrl)).json(), cardUrl);
  if (!card.files.calib || !card.files.vocab) throw new Error(`${cardUrl}: files.calib and files.vocab are needed for its text`);
  const [evalJson, calibJson, vocabJson] = await Promise.all([card.files.eval, card.files.calib, card.files.vocab].map((f) => fetchOk(`${base}${id}/${f}`).then((r) => r.json())));
  const dataset = parseDataset(evalJson, `${id}/${card.files.eval}`);
  const calibSet = parseDataset(calibJson, `${id}/${card.files.calib}`);
  if (dataset.kind !== 'lm-tokens' || calibSet.kind !== 'lm-tokens') throw new Error(`${id}: its sets are not text`);
  return { dataset, calibSet, vocab: parseVocab(vocabJson, `${id}/${card.files.vocab}`) };
}
