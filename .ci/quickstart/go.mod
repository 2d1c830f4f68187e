module quickstartcheck

go 1.25
