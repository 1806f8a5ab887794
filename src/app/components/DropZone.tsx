import { useEffect, useState } from 'react';
import { openFiles } from '../controller';
import { useLab } from '../store';
import { dropEntries, pickedFiles, walkEntries } from '../../services/folderFiles';

/** Accepts an .onnx file, several files, or a whole export folder dropped anywhere on the page. */
export function DropZone() {
  const [over, setOver] = useState(false);
  useEffect(() => {
    const onOver = (e: DragEvent) => {
      e.preventDefault();
      setOver(true);
    };
    const onLeave = (e: DragEvent) => {
      if (e.relatedTarget === null) setOver(false);
    };
    const onDrop = (e: DragEvent) => {
      e.preventDefault();
      setOver(false);
      if (!e.dataTransfer) return;
      // The entries must be taken before the event returns; the directories are walked after.
      const { entries, files } = dropEntries(e.dataTransfer);
      const walked = entries.length > 0 ? walkEntries(entries) : Promise.resolve(pickedFiles(files));
      walked.then(
        (all) => (all.length > 0 ? openFiles(all) : undefined),
        (error: Error) => useLab.setState({ loadError: { fileName: 'dropped folder', message: `could not be read: ${error.message}` } }),
      );
    };
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);
  return over ? <div className="drop-overlay">Drop an ONNX model or a Hugging Face export folder to load it</div> : null;
}
