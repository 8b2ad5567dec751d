// fp32 reference engine.
