# kvlds-undump shares the dump file format, the progress bar and the
# connection options with kvlds-dump: its module archive takes those
# objects from kvlds/kvlds-dump/.
$(B)/kvlds/kvlds-undump/kvlds-undump-objs.a: \
	$(B)/kvlds/kvlds-dump/dumpfile.o $(B)/kvlds/kvlds-dump/progress.o \
	$(B)/kvlds/kvlds-dump/conn.o
