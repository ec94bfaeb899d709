package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// helperEnv makes the test binary act as a client process that a test can
// kill: it connects to the address in the variable, sends the head and
// 1 MiB of an upload's payload, says "sent" on stdout and waits to be
// killed (at most a minute).
const helperEnv = "FILESERVERD_TEST_UPLOADER"

func runHelper() {
	conn, err := net.Dial("tcp", os.Getenv(helperEnv))
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	payload := base64.StdEncoding.EncodeToString([]byte(strings.Repeat("partial upload ", 1<<16)))
	if _, err := conn.Write([]byte("UPLOAD killed.bin " + payload[:1<<20])); err != nil {
		fmt.Println("write:", err)
		os.Exit(1)
	}
	fmt.Println("sent")
	time.Sleep(time.Minute)
	os.Exit(3)
}
