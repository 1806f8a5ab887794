// Files the user gives the page, with their paths inside the folder they came from: a dropped
// folder (DataTransferItem.webkitGetAsEntry, its directories walked), files picked together, or a
// folder picked with <input webkitdirectory> (File.webkitRelativePath). planFolder
// (src/core/hf/folder.ts) then decides what they are.

export interface PathedFile {
  /** "gpt2-tiny/onnx/model.onnx" for a folder; the bare name for a file picked alone. */
  path: string;
  file: File;
}

/** Files from an <input type=file> (webkitdirectory or multiple). */
export function pickedFiles(list: FileList | readonly File[]): PathedFile[] {
  return [...list].map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

/**
 * The entries of a drop, taken synchronously: a DataTransferItemList is emptied once the drop
 * event returns, so the entries are read first and walked afterwards.
 */
export function dropEntries(transfer: DataTransfer): { entries: FileSystemEntry[]; files: File[] } {
  const entries = [...transfer.items].filter((item) => item.kind === 'file').map((item) => item.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => e !== null && e !== undefined);
  return { entries, files: [...transfer.files] };
}

/** Every file under the dropped entries, with its path from the dropped folder's name down. */
export async function walkEntries(entries: readonly FileSystemEntry[]): Promise<PathedFile[]> {
  const out: PathedFile[] = [];
  for (const entry of entries) await walk(entry, out);
  return out;
}

async function walk(entry: FileSystemEntry, out: PathedFile[]): Promise<void> {
  const path = entry.fullPath.replace(/^\//, '');
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path, file });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  // readEntries returns the directory in batches (Chromium: 100 at a time) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, out);
  }
}

export async function readText(pathed: PathedFile): Promise<string> {
  try {
    return await pathed.file.text();
  } catch (e) {
    throw new Error(`${pathed.path}: could not be read (${(e as Error).message.split('\n')[0]})`);
  }
}
