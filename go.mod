module github.com/mamoru-id/mamoru

go 1.26.8
