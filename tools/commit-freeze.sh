#!/usr/bin/env bash
# Commit the merged `_freeze/` back to the branch this run publishes, after the
# Pages artifact is uploaded. Another push during the run makes the first push
# fail: fetch, rebase the freeze commit onto it and try again, a few times.
# Never fails the job: the site is deployed either way, and a freeze that did
# not land only means the next publish executes those posts again.
set -uo pipefail
branch="${GITHUB_REF_NAME:?}"
attempts="${FREEZE_PUSH_ATTEMPTS:-5}"

warn() { echo "::warning title=freeze not committed::$*"; exit 0; }

git config user.name "github-actions[bot]"
git config user.email "41898282+github-actions[bot]@users.noreply.github.com"
git add _freeze
if git diff --cached --quiet; then
  echo "freeze unchanged, nothing to commit"
  exit 0
fi
git commit -q -m "Update execution freeze [skip ci]" || warn "git commit failed"
for ((i = 1; i <= attempts; i++)); do
  if git push -q origin "HEAD:refs/heads/$branch"; then
    echo "freeze committed to $branch ($(git rev-parse --short HEAD))"
    exit 0
  fi
  echo "push refused (attempt $i of $attempts); rebasing onto the new $branch"
  sleep "$i"
  git fetch -q origin "+refs/heads/$branch:refs/remotes/origin/$branch" || continue
  if ! git rebase -q "origin/$branch"; then
    git rebase --abort
    warn "the freeze conflicts with a newer commit on $branch; the next publish executes these posts again"
  fi
done
warn "could not push the freeze to $branch after $attempts attempts (branch protection?); see the README, 'Publishing from a GPU runner'"
