//go:build !unix

package breach

import (
	"io"
	"os"
)

// mapFile reads the first size bytes of file into memory, where
// memory-mapping is not available; there is nothing to release.
func mapFile(file *os.File, size int) (data []byte, release func() error, err error) {
	data = make([]byte, size)
	if _, err := io.ReadFull(file, data); err != nil {
		return nil, nil, err
	}
	return data, nil, nil
}
