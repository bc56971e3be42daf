# enginebench drives the kvlds engine directly: link the kvlds module
# archive (and libsuite again after it, for crc32c and log).
$(B)/perftests/enginebench/enginebench: $(B)/kvlds/kvlds-objs.a
LDLIBS_enginebench += $(B)/kvlds/kvlds-objs.a $(B)/lib/libsuite.a
