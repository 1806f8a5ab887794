// Fetches the bundled models (public/models) over HTTP: the index, a model card, its ONNX bytes,
// its evaluation and calibration sets, and its vocabulary when it has one.
import { parseModelCard, type ModelCard, type ModelIndex } from '../core/catalog/modelCard';
import { parseVocab, type CharVocab } from '../core/catalog/vocab';
import { parseDataset, type Dataset } from '../core/eval/datasets';

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
