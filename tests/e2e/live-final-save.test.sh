#!/usr/bin/env bash
# At SIGINT/SIGTERM a service saves its state once more only if anything changed since it was
# last saved whole (kd-live(7), SERVICES): a stop after nothing touches no file, so a state file
# that is no longer writable (here: replaced by a directory) is no error (trial 7: "cannot
# replace sw.st: Is a directory", exit 3). A stop after a registration that cannot save says it
# was the final save, exits 3 and keeps the journal, which holds the change.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/live-lib.sh"

live_world "$TMP/w"

# Nothing changed: the switch starts (its state file written whole), then stops.
serve auc auc || fail "the AuC serves" "no listening line"
auc=$ADDR
serve switch switch --binding json --auc-link json --peer "auc=$auc" || fail "the switch serves" "no listening line"
check "the state file was written at start" test -f "$W/switch.st"
cp "$W/switch.st.journal" "$TMP/journal.before"
mv "$W/switch.st" "$TMP/switch.st.saved"
mkdir "$W/switch.st"
stop switch
ERR=$TMP/switch.err
check "nothing changed: the stop is clean (exit 0)" exit_is 0
check "nothing changed: nothing on stderr" test ! -s "$TMP/switch.err"
check "nothing changed: the journal is as it was" same_file "$W/switch.st.journal" "$TMP/journal.before"
check "nothing changed: the directory is left alone" eq "$(ls -A "$W/switch.st")" ""
rmdir "$W/switch.st"
mv "$TMP/switch.st.saved" "$W/switch.st"

# A registration changed the state: the final save is needed, and fails.
serve switch switch --binding json --auc-link json --peer "auc=$auc" || fail "the switch serves again" "no listening line"
TARGET="switch=$ADDR"
register json direct
check "a registration (exit 0)" exit_is 0
sleep 0.2
cp "$W/switch.st.journal" "$TMP/journal.before"
mv "$W/switch.st" "$TMP/switch.st.saved"
mkdir "$W/switch.st"
stop switch
ERR=$TMP/switch.err
check "changed: the final save fails (exit 3)" exit_is 3
check "changed: the message says it was the final save" \
  grep -qx "kd-switch: final save at stop: cannot replace $W/switch.st: Is a directory" "$TMP/switch.err"
# (the snapshot record that the save would have made true comes after it: a journal whose
# snapshot is not the state file is read from its base, kd-live(7) DURABILITY)
check "changed: the journal, which holds the change, is kept" \
  cmp -s -n "$(journal_bytes "$TMP/journal.before")" "$W/switch.st.journal" "$TMP/journal.before"
rmdir "$W/switch.st"
mv "$TMP/switch.st.saved" "$W/switch.st"

# The change is not lost: the state file with the journal folded in holds the registration.
serve switch switch --binding json --auc-link json --peer "auc=$auc" || fail "the switch serves a third time" "no listening line"
stop switch
check "the restarted switch stops cleanly" exit_is 0
check "the registration's nonces are in the state file" json_true "$W/switch.st" '.seen_n1 | length > 0' 
stop auc
finish
