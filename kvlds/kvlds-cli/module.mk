# kvlds-cli shares the connection options (-K, --no-pfs, --require-pfs,
# the key file options) with kvlds-dump and kvlds-undump.
$(B)/kvlds/kvlds-cli/kvlds-cli-objs.a: $(B)/kvlds/kvlds-dump/conn.o
