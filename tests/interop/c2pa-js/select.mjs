// What Adobe's c2pa-js (npm "c2pa", pinned in package.json) would show as a file's generative
// AI information: its own createManifestStore over the manifest store JSON c2pa-rs reports,
// then its own selectGenerativeInfo over the active manifest, as its Content Credentials
// summary (createL2ManifestStore) does. Only the reading of the file is not c2pa-js's: its
// toolkit (an older c2pa-rs in WebAssembly, run in a browser worker) reads no 2.x claim, so
// c2pa-python's c2pa-rs reads and this script takes over from the JSON.
//
// stdin:  {"name": manifest store JSON as c2pa-rs reports it, ...}
// stdout: {"name": null | [{"type": ..., "action": ..., "softwareAgent": ...}, ...]}
import { readFileSync } from 'node:fs';
import { createManifestStore, selectGenerativeInfo } from 'c2pa';

const stores = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const [name, data] of Object.entries(stores)) {
  // The toolkit always wrote these lists; c2pa-rs now leaves an empty one out.
  for (const manifest of Object.values(data.manifests || {})) {
    manifest.ingredients = manifest.ingredients || [];
    manifest.assertions = manifest.assertions || [];
  }
  const store = createManifestStore(data, {});
  const found = selectGenerativeInfo(store.activeManifest);
  out[name] = found === null
    ? null
    : found.map((info) => ({
      type: info.type,
      action: info.action ? info.action.action : null,
      softwareAgent: info.softwareAgent ?? null,
    }));
}
process.stdout.write(JSON.stringify(out));
