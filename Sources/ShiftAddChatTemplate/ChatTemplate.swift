// Chat template rendering lives here.
