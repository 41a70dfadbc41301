// Validates Kubernetes manifests against the API schemas of kubernetes-models: every object
// must be a known kind whose fields have the right types and required members.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

let failures = 0;
let objects = 0;
for (const file of process.argv.slice(2)) {
  for (const doc of parseAllDocuments(readFileSync(file, "utf8"))) {
    if (doc.errors.length > 0) {
      console.error(`${file}: ${doc.errors[0].message}`);
      failures++;
      continue;
    }
    const object = doc.toJS();
    if (object === null) continue;
    const where = `${file}: ${object.kind} ${object.metadata?.name ?? "(unnamed)"}`;
    if (object.apiVersion?.startsWith("kustomize.config.k8s.io/")) continue;
    const module = `kubernetes-models/${object.apiVersion}`;
    let Model;
    try {
      Model = (await import(module))[object.kind];
    } catch {
      Model = undefined;
    }
    if (Model === undefined) {
      console.error(`${where}: unknown kind for apiVersion ${object.apiVersion}`);
      failures++;
      continue;
    }
    try {
      new Model(object).validate();
      objects++;
    } catch (error) {
      console.error(`${where}: ${error.message}`);
      failures++;
    }
  }
}
console.log(`k8s: ${objects} objects valid, ${failures} problems`);
process.exit(failures === 0 && objects > 0 ? 0 : 1);
