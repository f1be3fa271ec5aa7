"""The signal path of the device: from checked samples to the model's windows and back.

The clock (which timestamps to believe), input checks (units and rate), resampling onto the
model's rate, the causal filter bank, sliding windows, the stream windower that ties them
together (shared with training), smoothing of predictions, the placement rule and the check
for input unlike the model's training data.
"""
