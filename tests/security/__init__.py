"""Issue 11: each finding of the attack on a demo install, reproduced, with the answer it now gets."""
