// Package protocol is the wire format of the course's file server, shared
// by fileserverd and filestressd, streaming in both directions.
//
// # Requests
//
// A request is a command and its parameters separated by single spaces.
// The command is case-insensitive (ASCII); a parameter may be written in
// double quotes to hold spaces. Several requests may follow each other on
// one connection. AppendRequest writes them ended by CRLF CRLF.
//
//	LIST
//	GET name
//	DOWNLOAD name          (GET, with the content under "data")
//	UPLOAD name <base64>   (also POST and PUT; standard base64, padded)
//	DELETE name
//	STATS
//
// The course fixes the replies, not how a request ends, so RequestReader
// reads what real course clients send: a request ended by CRLF CRLF, one
// CRLF or LF, EOF, or nothing at all (a pause ends a request that is
// whole: RequestReader.EndPause one that only reads, the longer EndPauseWrite
// one that changes storage); blank lines between requests; requests
// pipelined right after a payload; an UPLOAD's payload after a space, on
// the next line, or after a decimal length, with line breaks inside it
// (as base64.encodebytes writes it); and JSON objects, {"command":
// "upload", "params": ["name", "<base64>"]} or with named fields in any
// order, whose content string is decoded as it arrives. An OK must mean
// exactly what the client sent: where bytes or timing allow two readings,
// the reader waits longer or refuses (payload.go has the rules).
//
// The head of a request, everything but an UPLOAD's payload, is at most
// MaxHeadLen (4 KiB). File names are checked by ValidateName.
//
// # Replies
//
// A reply is one JSON object followed by CRLF CRLF, written byte for byte
// as Python's json.dumps writes it with default settings (AppendObject), so
// clients that parse it with json.loads work unchanged:
//
//	{"status": "OK", "data": ["a.bin", "b.txt"]}
//	{"status": "OK", "data_namafile": "a.bin", "data_file": "<base64>"}
//	{"status": "OK", "data": "stored a.bin (3 bytes)", "size": 3, "sha256": "<hex>"}
//	{"status": "OK", "data": "deleted a.bin"}
//	{"status": "OK", "data": {<Stats>}}
//	{"status": "ERROR", "data": "<reason>"}
//
// # Memory
//
// Neither side holds a file or a payload in memory. Content is encoded and
// decoded in aligned chunks with the bulk base64 routines: a connection
// costs its ReaderSize (128 KiB) reader plus one Buffers (ChunkSize 96 KiB
// raw and 128 KiB encoded, about 232 KiB), allocated once and reused for
// every request, whatever the size of the files.
//
// Whatever a server replies, reading the reply costs a fixed amount beyond
// that: the content streams, LIST's names stream (Client.ListEach), the
// few values the protocol reads are kept bounded (1 KiB each; STATS's
// data 64 KiB; one short content value at most as long as the reader's
// buffer), and every other value is checked and skipped as it streams,
// nested at most 1024 deep (see ReadReply).
package protocol
