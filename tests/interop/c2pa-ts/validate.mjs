// Prints one JSON line per file: how c2pa-ts (TrustNXT's TypeScript C2PA implementation) judges a file.
//
// Trust lists are not consulted: c2pa-ts does not validate chains of trust, so "valid" is its
// own judgement of the active manifest: claim signature, hashed assertion references, the hard
// binding (c2pa.hash.data / c2pa.hash.bmff) against the asset's bytes, and ingredients.
//
// c2pa-ts' MP3 reader looks only for the ID3 GEOB frame whose MIME type is the deprecated
// "application/x-c2pa-manifest-store"; c2pa-rs (and so provsdk) writes "application/c2pa".
// "found_by_c2pa_ts" reports what c2pa-ts finds on its own. When it finds nothing, this script
// points c2pa-ts' parsed MP3 at the one GEOB frame carrying the current MIME type, and every
// check after that (JUMBF parsing, signature, hashes) is c2pa-ts' own: "located_by" says so.
import { readFile } from 'node:fs/promises';
import { BMFF, JPEG, MP3, PNG } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

const FORMATS = [
    ['mp3', MP3],
    ['bmff', BMFF],
    ['jpeg', JPEG],
    ['png', PNG],
];
const CURRENT_GEOB_MIME = new TextEncoder().encode('application/c2pa\0');

function geobHasCurrentMime(data, frame) {
    const mime = data.subarray(frame.dataOffset + 1, frame.dataOffset + 1 + CURRENT_GEOB_MIME.length);
    return frame.id === 'GEOB' && mime.every((byte, i) => byte === CURRENT_GEOB_MIME[i]);
}

// The index of the single GEOB frame with the current MIME type; undefined if none or several.
function currentMimeFrame(asset, data) {
    const frames = (asset.frames ?? []).flatMap((frame, i) => (geobHasCurrentMime(data, frame) ? [i] : []));
    return frames.length === 1 ? frames[0] : undefined;
}

async function judge(path) {
    const data = new Uint8Array(await readFile(path));
    const found = FORMATS.find(([, kind]) => kind.canRead(data));
    const out = { format: found?.[0] ?? null, found_by_c2pa_ts: false, manifest_found: false, located_by: null };
    if (!found) return { ...out, valid: false, error: 'c2pa-ts reads no such format' };
    let result;
    try {
        const asset = new found[1](data);
        let jumbf = asset.getManifestJUMBF();
        out.found_by_c2pa_ts = jumbf !== undefined;
        if (jumbf) out.located_by = 'c2pa-ts';
        else if (asset instanceof MP3) {
            const index = currentMimeFrame(asset, data);
            if (index !== undefined) {
                asset.manifestFrameIndex = index;
                jumbf = asset.getManifestJUMBF();
                out.located_by = 'current-mime-shim';
            }
        }
        if (!jumbf) return { ...out, valid: false };
        out.manifest_found = true;
        const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
        out.active_label = store.getActiveManifest()?.label ?? null;
        result = await store.validate(asset);
    } catch (e) {
        // c2pa-ts' own mapping of an exception onto validation status codes
        result = ValidationResult.fromError(e);
        out.error = String(e?.message ?? e);
    }
    out.valid = result.isValid;
    out.errors = result.statusEntries.filter(s => !s.success).map(s => s.code);
    out.codes = result.statusEntries.map(s => s.code);
    return out;
}

// One line per file, in order, so that a test can judge many files with one Node start.
if (process.argv.length < 3) {
    console.error('usage: node validate.mjs FILE [FILE...]');
    process.exit(2);
}
for (const path of process.argv.slice(2)) {
    console.log(JSON.stringify({ path, ...(await judge(path)) }));
}
