"""How a frame becomes a box: the EDCF tracker (Eq. 7, 9, 16-18) and how its responses are computed."""
