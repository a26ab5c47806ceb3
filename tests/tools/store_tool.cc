// A test helper that talks to mailboxstored directly, to put mail in place and look at it
// without going through a protocol frontend:
//   store_tool --endpoint unix:/path/admin.sock append MAILBOX FOLDER FILE...  (prints UIDs)
//   store_tool --endpoint ... count MAILBOX FOLDER
//   store_tool --endpoint ... flags MAILBOX FOLDER   (one line per message: "uid flag...")
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <grpcpp/grpcpp.h>

#include "directory.grpc.pb.h"
#include "store.grpc.pb.h"

namespace {

int Fail(const std::string& what, const grpc::Status& s) {
  std::fprintf(stderr, "store_tool: %s: %s\n", what.c_str(), s.error_message().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || std::string(argv[1]) != "--endpoint") {
    std::fprintf(stderr, "usage: store_tool --endpoint EP append|count|flags MAILBOX FOLDER [FILE...]\n");
    return 2;
  }
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(100 << 20);
  args.SetMaxReceiveMessageSize(100 << 20);
  auto channel = grpc::CreateCustomChannel(argv[2], grpc::InsecureChannelCredentials(), args);
  auto dir = mail::v1::Directory::NewStub(channel);
  auto store = mail::v1::MessageStore::NewStub(channel);
  std::string cmd = argv[3];
  if (argc < 6) return 2;
  grpc::ClientContext gctx;
  mail::v1::MailboxIdentity id;
  id.set_identity(argv[4]);
  mail::v1::GetMailboxResponse mb;
  grpc::Status s = dir->GetMailbox(&gctx, id, &mb);
  if (!s.ok()) return Fail("GetMailbox", s);
  std::string folder = argv[5];
  if (cmd == "append") {
    for (int i = 6; i < argc; ++i) {
      std::ifstream in(argv[i], std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      grpc::ClientContext ctx;
      mail::v1::AppendRequest req;
      req.set_mailbox_id(mb.mailbox().id());
      req.mutable_folder()->set_name(folder);
      req.set_message(buf.str());
      mail::v1::AppendResponse resp;
      s = store->Append(&ctx, req, &resp);
      if (!s.ok()) return Fail("Append", s);
      std::printf("%u\n", resp.uid());
    }
    return 0;
  }
  grpc::ClientContext ctx;
  mail::v1::FetchRequest req;
  req.set_mailbox_id(mb.mailbox().id());
  req.mutable_folder()->set_name(folder);
  auto reader = store->Fetch(&ctx, req);
  mail::v1::FetchResponse chunk;
  size_t n = 0;
  std::string lines;
  while (reader->Read(&chunk)) {
    for (const auto& m : chunk.messages()) {
      ++n;
      lines += std::to_string(m.uid());
      for (const auto& f : m.flags()) lines += " " + f;
      lines += "\n";
    }
  }
  s = reader->Finish();
  if (!s.ok()) return Fail("Fetch", s);
  if (cmd == "count") {
    std::printf("%zu\n", n);
  } else {
    std::fputs(lines.c_str(), stdout);
  }
  return 0;
}
