"""Reading and writing supply graphs: tables, spreadsheets, exchange formats, safe output."""
