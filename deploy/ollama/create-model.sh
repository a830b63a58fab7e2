#!/bin/sh
# One-shot: create the Ollama model from the verified GGUF in the shared volume, then check it.
# The GGUF was assembled and sha256-checked by `python -m classifier.model_files` (model-files
# job) from the same pinned packages the evaluation ran on, so eval results carry over.
set -eu
: "${OLLAMA_HOST:?}" "${MODEL_NAME:?}" "${GGUF:?}"
[ -s "$GGUF" ] || { echo "missing $GGUF"; exit 1; }
# Re-check the digest here too: the volume outlives the job that wrote it.
echo "${GGUF_SHA256:?}  $GGUF" | sha256sum -c -
attempt=0
until ollama list >/dev/null 2>&1; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 30 ] && { echo "ollama not reachable at $OLLAMA_HOST"; exit 1; }
  sleep 2
done
ollama create "$MODEL_NAME" -f /etc/ollama-model/Modelfile
ollama show "$MODEL_NAME" --modelfile | grep -q '<|im_start|>' || { echo "template missing"; exit 1; }
echo "model $MODEL_NAME ready"
