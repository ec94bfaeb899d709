module fileserver

go 1.26
