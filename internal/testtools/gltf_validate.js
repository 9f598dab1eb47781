// gltf_validate.js validates one glTF or GLB file with the Khronos glTF
// validator (npm gltf-validator, found through NODE_PATH or
// $MOTIONSTUDIO_NODE_PATH) and prints the report as JSON on stdout.
// Exit status: 0 when a report was produced (whatever it says), 2 on bad
// usage, 1 when the file could not be read or validated at all.
'use strict';

const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function loadValidator() {
  try {
    return require('gltf-validator');
  } catch (e) {
    const dir = process.env.MOTIONSTUDIO_NODE_PATH;
    if (!dir) throw e;
    return createRequire(path.join(dir, 'noop.js'))('gltf-validator');
  }
}

async function main() {
  if (process.argv.length !== 3) {
    console.error('usage: node gltf_validate.js FILE.glb|FILE.gltf');
    process.exit(2);
  }
  const file = process.argv[2];
  const validator = loadValidator();
  const data = fs.readFileSync(file);
  const report = await validator.validateBytes(new Uint8Array(data), {
    uri: path.basename(file),
    maxIssues: 0, // report every issue, not the first 100
    writeTimestamp: false,
    // Our files embed their buffers; an external URI would be a defect
    // that the validator reports as unloadable.
    externalResourceFunction: (uri) => Promise.reject(new Error('external resource not allowed: ' + uri)),
  });
  process.stdout.write(JSON.stringify(report, null, 1) + '\n');
}

main().catch((err) => {
  console.error('gltf_validate: ' + (err && err.stack ? err.stack : err));
  process.exit(1);
});
