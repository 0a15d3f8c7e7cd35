package ringcentral

// FastRingOut and DecodeRingOut are the two decoders of a RingOut, for the fuzz test that
// compares them.
var FastRingOut, DecodeRingOut = fastRingOut, decodeRingOut
