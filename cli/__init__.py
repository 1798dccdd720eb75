"""The `xiangyin` command line: thin front end over the rooms."""
