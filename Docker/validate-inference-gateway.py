"""Validates the Gateway API Inference Extension manifests (k8s/inference-gateway/extension/*.yaml:
an InferencePool and an HTTPRoute, custom resources that kubernetes-validate does not know) against
JSON schemas of those kinds (k8s/inference-gateway/schemas/), strictly: unknown fields are errors.
Usage: validate-inference-gateway.py [DIR]. Needs PyYAML and jsonschema (the project's venv has both).
"""
import pathlib
import sys

import jsonschema
import yaml

HERE = pathlib.Path(__file__).resolve().parent / "k8s" / "inference-gateway"
SCHEMAS = {
    ("inference.networking.k8s.io/v1", "InferencePool"): "inferencepool-v1.json",
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): "httproute-v1.json",
}


def main():
    directory = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "extension"
    manifests = sorted(directory.glob("*.yaml"))
    if not manifests:
        sys.exit(f"no manifests in {directory}")
    errors = []
    for path in manifests:
        for document in yaml.safe_load_all(path.read_text()):
            key = (document.get("apiVersion"), document.get("kind"))
            if key not in SCHEMAS:
                errors.append(f"{path.name}: no schema for {key[1]} {key[0]}")
                continue
            schema = yaml.safe_load((HERE / "schemas" / SCHEMAS[key]).read_text())
            for error in jsonschema.Draft202012Validator(schema).iter_errors(document):
                where = ".".join(str(p) for p in error.absolute_path) or "(top)"
                errors.append(f"{path.name}: {key[1]} {where}: {error.message}")
    if errors:
        print("\n".join(errors), file=sys.stderr)
        sys.exit(1)
    print(f"{len(manifests)} inference extension manifests valid")


if __name__ == "__main__":
    main()
