#!/usr/bin/env python3
"""Regenerates the JSON schemas kubeconform validates the Helm chart against (deploy/helm/schemas).

Only the kinds the chart renders are kept, each as one standalone file (every $ref inlined,
descriptions dropped), so that the check needs no network and the repository stays small:

  kubernetes-v<version>/<kind>-<group>-<version>.json   from the PyPI package kubernetes-validate
                                                         (its "-local-strict" schemas: unknown
                                                         fields are refused, as kubectl does)
  crds/<group>/<kind>_<version>.json                    openAPIV3Schema of each served version of
                                                         the CRDs, made strict the same way:
    keda.sh                 Go module github.com/kedacore/keda/v2 (config/crd/bases)
    monitoring.coreos.com   Go module github.com/prometheus-operator/prometheus-operator
                            (example/prometheus-operator-crd)
    kafka.strimzi.io        Strimzi's packaging/install/cluster-operator/04*-Crd-*.yaml, from a
                            clone of github.com/strimzi/strimzi-kafka-operator (--strimzi-repo,
                            read at --strimzi-ref with git) or cloned here when omitted

Run from anywhere (pip, go, git and the repository's npm packages installed):
  python3 scripts/ci/regen-k8s-schemas.py [--strimzi-repo DIR]

Sources and versions are recorded in deploy/helm/schemas/SOURCES.json. Change a version here,
rerun, commit the result; scripts/ci/check-chart.sh uses only the committed files.
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT = os.path.join(ROOT, 'deploy', 'helm', 'schemas')

# The chart's kubeVersion floor: what it renders must be valid there.
K8S_VERSION = '1.31.0'
KUBERNETES_VALIDATE = '1.37.0'
KEDA = 'v2.21.0'
PROMETHEUS_OPERATOR = 'v0.85.0'
STRIMZI = '1.2.0'

# file names as kubeconform looks them up ({{ .ResourceKind }}{{ .KindSuffix }}.json)
K8S_KINDS = [
    'configmap-v1',
    'secret-v1',
    'service-v1',
    'serviceaccount-v1',
    'pod-v1',
    'deployment-apps-v1',
    'job-batch-v1',
    'poddisruptionbudget-policy-v1',
    'horizontalpodautoscaler-autoscaling-v2',
    'ingress-networking-v1',
    'networkpolicy-networking-v1',
]
KEDA_CRDS = ['keda.sh_scaledobjects.yaml', 'keda.sh_triggerauthentications.yaml']
PROM_CRDS = ['monitoring.coreos.com_servicemonitors.yaml', 'monitoring.coreos.com_prometheusrules.yaml']
STRIMZI_CRDS = ['043-Crd-kafkatopic.yaml', '044-Crd-kafkauser.yaml']

# Keywords that only annotate a schema (dropped) and Kubernetes extensions handled below.
DROP = {'description', 'example', 'examples', '$comment', 'externalDocs', 'x-kubernetes-validations'}


def run(*cmd, cwd=None):
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True).stdout


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def slim(node, defs=None, stack=()):
    """Copy of a schema without annotations, with $refs into `defs` inlined (a cycle becomes {})."""
    if isinstance(node, list):
        return [slim(x, defs, stack) for x in node]
    if not isinstance(node, dict):
        return node
    ref = node.get('$ref')
    if ref is not None:
        name = ref.split('/')[-1]
        if defs is None or name not in defs:
            raise SystemExit(f'unresolved $ref {ref}')
        if name in stack:
            return {}
        inlined = slim(defs[name], defs, stack + (name,))
        rest = {k: v for k, v in node.items() if k not in ('$ref',) and k not in DROP}
        return {**inlined, **slim(rest, defs, stack)} if rest else inlined
    out = {}
    for key, value in node.items():
        if key in DROP:
            continue
        if key in ('properties', 'patternProperties', '$defs', 'definitions'):
            out[key] = {name: slim(schema, defs, stack) for name, schema in value.items()}
        else:
            out[key] = slim(value, defs, stack)
    return out


def strict_crd(node):
    """A CRD's structural schema as JSON schema that refuses unknown fields (as the API server's
    strict field validation does): objects with properties and no additionalProperties get
    additionalProperties: false unless they preserve unknown fields; int-or-string and nullable
    become JSON schema types."""
    if isinstance(node, list):
        return [strict_crd(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key in ('properties', 'patternProperties'):
            out[key] = {name: strict_crd(schema) for name, schema in value.items()}
        elif key.startswith('x-kubernetes-') or key == 'nullable':
            continue
        else:
            out[key] = strict_crd(value)
    if node.get('x-kubernetes-int-or-string'):
        out.pop('type', None)
        out = {'anyOf': [{'type': 'string'}, {'type': 'integer'}], **out}
    if node.get('nullable') and 'type' in out:
        out['type'] = [out['type'], 'null'] if isinstance(out['type'], str) else out['type'] + ['null']
    if (
        'properties' in node
        and 'additionalProperties' not in node
        and not node.get('x-kubernetes-preserve-unknown-fields')
    ):
        out['additionalProperties'] = False
    return out


def write(path, schema):
    # A chart never sets status: leaving it out keeps the files small.
    schema.get('properties', {}).pop('status', None)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(schema, f, separators=(',', ':'), sort_keys=True)
        f.write('\n')
    print(f'  {os.path.relpath(path, ROOT)} ({os.path.getsize(path) // 1024} KiB)')


def kubernetes_schemas(tmp, sources):
    run(sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--dest', tmp,
        f'kubernetes-validate=={KUBERNETES_VALIDATE}')
    wheel = glob.glob(os.path.join(tmp, 'kubernetes_validate-*.whl'))[0]
    base = f'kubernetes_validate/kubernetes-json-schema/v{K8S_VERSION}-local-strict/'
    with zipfile.ZipFile(wheel) as z:
        defs = json.loads(z.read(base + '_definitions.json'))['$defs']
        for kind in K8S_KINDS:
            schema = slim(json.loads(z.read(f'{base}{kind}.json')), defs)
            write(os.path.join(OUT, f'kubernetes-v{K8S_VERSION}', f'{kind}.json'), schema)
    with open(wheel, 'rb') as f:
        sources['kubernetes'] = {
            'from': f'PyPI kubernetes-validate=={KUBERNETES_VALIDATE}, v{K8S_VERSION}-local-strict',
            'sha256': sha256(f.read()),
            'kinds': K8S_KINDS,
        }


def crd_schemas(files, origin, sources):
    for path in files:
        with open(path, 'rb') as f:
            raw = f.read()
        crd = yaml.safe_load(raw)
        group, kind = crd['spec']['group'], crd['spec']['names']['kind']
        for version in crd['spec']['versions']:
            if not version.get('served', True):
                continue
            schema = strict_crd(slim(version['schema']['openAPIV3Schema']))
            props = schema.setdefault('properties', {})
            props['apiVersion'] = {'type': 'string', 'enum': [f'{group}/{version["name"]}']}
            props['kind'] = {'type': 'string', 'enum': [kind]}
            schema['required'] = sorted(set(schema.get('required', [])) | {'apiVersion', 'kind'})
            name = f'{kind.lower()}_{version["name"]}.json'
            write(os.path.join(OUT, 'crds', group, name), schema)
        sources.setdefault('crds', {})[f'{group}/{kind}'] = {
            'from': origin,
            'file': os.path.basename(path),
            'sha256': sha256(raw),
        }


def go_module_dir(module, version):
    info = json.loads(run('go', 'mod', 'download', '-json', f'{module}@{version}'))
    return info['Dir']


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--strimzi-repo', help='a clone (or bare mirror) of strimzi-kafka-operator')
    p.add_argument('--strimzi-ref', default=STRIMZI)
    args = p.parse_args()

    tmp = tempfile.mkdtemp(prefix='k8s-schemas-')
    try:
        if os.path.isdir(OUT):
            for entry in os.listdir(OUT):
                if entry.startswith('kubernetes-v') or entry == 'crds':
                    shutil.rmtree(os.path.join(OUT, entry))
        sources = {}
        print(f'Kubernetes {K8S_VERSION} (kubernetes-validate {KUBERNETES_VALIDATE}):')
        kubernetes_schemas(tmp, sources)

        print(f'KEDA {KEDA}:')
        keda = go_module_dir('github.com/kedacore/keda/v2', KEDA)
        crd_schemas([os.path.join(keda, 'config/crd/bases', f) for f in KEDA_CRDS],
                    f'Go module github.com/kedacore/keda/v2@{KEDA}', sources)

        print(f'prometheus-operator {PROMETHEUS_OPERATOR}:')
        prom = go_module_dir('github.com/prometheus-operator/prometheus-operator', PROMETHEUS_OPERATOR)
        crd_schemas([os.path.join(prom, 'example/prometheus-operator-crd', f) for f in PROM_CRDS],
                    f'Go module github.com/prometheus-operator/prometheus-operator@{PROMETHEUS_OPERATOR}',
                    sources)

        print(f'Strimzi {args.strimzi_ref}:')
        repo = args.strimzi_repo
        if not repo:
            repo = os.path.join(tmp, 'strimzi')
            run('git', 'clone', '--quiet', '--depth', '1', '--branch', args.strimzi_ref,
                'https://github.com/strimzi/strimzi-kafka-operator', repo)
        files = []
        for name in STRIMZI_CRDS:
            path = os.path.join(tmp, name)
            with open(path, 'w') as f:
                f.write(run('git', '--git-dir', git_dir(repo), 'show',
                            f'{args.strimzi_ref}:packaging/install/cluster-operator/{name}'))
            files.append(path)
        crd_schemas(files, f'github.com/strimzi/strimzi-kafka-operator@{args.strimzi_ref} '
                    'packaging/install/cluster-operator', sources)

        with open(os.path.join(OUT, 'SOURCES.json'), 'w') as f:
            json.dump(sources, f, indent=2, sort_keys=True)
            f.write('\n')
        # The repository's `prettier --check .` reads JSON too: write them as Prettier would.
        run(os.path.join(ROOT, 'node_modules', '.bin', 'prettier'), '--write', '--log-level', 'warn', OUT)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def git_dir(repo):
    dot_git = os.path.join(repo, '.git')
    return dot_git if os.path.isdir(dot_git) else repo


if __name__ == '__main__':
    main()
