#!/usr/bin/env bash
# Deploy one release to one environment: migration Job first, then the rollout.
#   deploy/k8s/deploy.sh staging ghcr.io/OWNER/contact-center-orchestrator@sha256:...
# Needs kubectl (with a context for the target cluster) and kustomize on PATH.
# Rollback: deploy/k8s/deploy.sh ENV <previous image digest> --no-migrate
#   Migrations are additive (expand/contract), so the previous release runs on the newer
#   schema; its own migration job would not know the newer revision, hence --no-migrate.
#   See docs/design.md "Upgrades and rollback".
set -euo pipefail
env_name="${1:?environment: staging|production}"
image="${2:?image reference, by digest}"
migrate=true
if [[ "${3:-}" == "--no-migrate" ]]; then migrate=false; elif [[ -n "${3:-}" ]]; then echo "unknown option $3" >&2; exit 2; fi
case "$env_name" in staging|production) ;; *) echo "unknown environment $env_name" >&2; exit 2 ;; esac
[[ "$image" == *@sha256:* ]] || { echo "deploy by digest, not by tag: $image" >&2; exit 2; }

here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here/base" "$here/overlays" "$work/"
overlay="$work/overlays/$env_name"
namespace="cc-$env_name"
(cd "$overlay" && kustomize edit set image "contact-center-orchestrator=$image")
kustomize build "$overlay" > "$work/rendered.yaml"

# 1. Settings, then migrations, once, with the new image (a Job's pod template is immutable:
#    replace it). The running release keeps serving meanwhile: migrations are additive.
kubectl -n "$namespace" apply -f "$work/rendered.yaml" -l app.kubernetes.io/component=config
if $migrate; then
  kubectl -n "$namespace" delete job cc-migrate --ignore-not-found --wait=true
  kubectl -n "$namespace" apply -f "$work/rendered.yaml" -l app.kubernetes.io/component=migrate
  if ! kubectl -n "$namespace" wait --for=condition=complete job/cc-migrate --timeout=600s; then
    kubectl -n "$namespace" logs job/cc-migrate --tail=100 || true
    echo "migration failed: the running release was left as it was" >&2
    exit 1
  fi
fi

# 2. Everything else; old pods drain gracefully (terminationGracePeriodSeconds > worker shutdown).
kubectl -n "$namespace" apply -f "$work/rendered.yaml" -l 'app.kubernetes.io/component!=migrate'
for deployment in cc-api cc-codec-server cc-worker-workflows cc-worker-llm; do
  kubectl -n "$namespace" rollout status "deployment/$deployment" --timeout=600s
done
echo "deployed $image to $env_name"
