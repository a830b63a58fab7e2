#!/bin/sh
# Register the application's namespace once (the plain server image does not create one).
# Retention keeps closed cases' histories for audit before Temporal deletes them.
set -eu
: "${TEMPORAL_ADDRESS:?}" "${NAMESPACE:?}" "${RETENTION:?}"
attempt=0
until temporal operator cluster health --address "$TEMPORAL_ADDRESS"; do
  attempt=$((attempt + 1))
  [ "$attempt" -ge 30 ] && { echo "temporal not healthy after $attempt attempts"; exit 1; }
  sleep 2
done
temporal operator namespace describe --namespace "$NAMESPACE" --address "$TEMPORAL_ADDRESS" \
  || temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" \
       --address "$TEMPORAL_ADDRESS"
