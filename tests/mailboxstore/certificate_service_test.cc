// The certificate RPCs of mail.v1.Settings over real gRPC: what the admin endpoint shows (never
// a key), what the frontends' WatchSettings carries (only enabled certificates, with keys),
// persistence across a restart, Remove of an enabled certificate, and the audit log.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>

#include "common/certificate.h"
#include "control.grpc.pb.h"
#include "tests/mailboxstore/store_fixture.h"

namespace mailboxstore::testing {
namespace {

class CertificateServiceTest : public StoreFixture {
 protected:
  std::unique_ptr<mail::v1::Settings::Stub> Admin() {
    return mail::v1::Settings::NewStub(admin_channel_);
  }
  std::unique_ptr<mail::v1::Settings::Stub> Frontend() {
    return mail::v1::Settings::NewStub(frontend_channel_);
  }

  mail::v1::Certificate Import(const common::CertificateAndKey& ck) {
    grpc::ClientContext ctx;
    mail::v1::ImportCertificateRequest req;
    req.set_chain_pem(ck.chain_pem);
    req.set_private_key_pem(ck.private_key_pem);
    mail::v1::Certificate resp;
    grpc::Status s = Admin()->ImportCertificate(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  grpc::Status Enable(const std::string& thumbprint, mail::v1::CertificateService service) {
    grpc::ClientContext ctx;
    mail::v1::EnableCertificateRequest req;
    req.set_thumbprint(thumbprint);
    req.add_services(service);
    mail::v1::Certificate resp;
    return Admin()->EnableCertificate(&ctx, req, &resp);
  }

  // The first snapshot a frontend node gets.
  mail::v1::ServerSettings Watched() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stub = Frontend();
    auto reader = stub->WatchSettings(&ctx, mail::v1::GetSettingsRequest());
    mail::v1::ServerSettings s;
    EXPECT_TRUE(reader->Read(&s));
    ctx.TryCancel();
    (void)reader->Finish();
    return s;
  }

  static common::CertificateAndKey Make(const std::string& name) {
    auto made = common::MakeSelfSignedCertificate("CN=" + name, {name}, 30);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return *made;
  }
};

TEST_F(CertificateServiceTest, FrontendsGetEnabledCertificatesWithKeysAdminsNeverAKey) {
  common::CertificateAndKey a = Make("a.example.test");
  common::CertificateAndKey b = Make("b.example.test");
  mail::v1::Certificate imported = Import(a);
  EXPECT_EQ(imported.thumbprint(), a.info.thumbprint);
  EXPECT_EQ(imported.private_key_pem(), "");
  Import(b);
  ASSERT_TRUE(Enable(a.info.thumbprint, mail::v1::CERTIFICATE_SERVICE_IMAP).ok());

  mail::v1::ServerSettings watched = Watched();
  ASSERT_EQ(watched.certificates_size(), 1);  // b is not enabled: it stays in the store.
  EXPECT_EQ(watched.certificates(0).thumbprint(), a.info.thumbprint);
  EXPECT_EQ(watched.certificates(0).private_key_pem(), a.private_key_pem);

  grpc::ClientContext ctx;
  mail::v1::GetCertificatesResponse list;
  ASSERT_TRUE(Admin()->GetCertificates(&ctx, mail::v1::GetCertificatesRequest(), &list).ok());
  ASSERT_EQ(list.certificates_size(), 2);
  for (const auto& c : list.certificates()) {
    EXPECT_EQ(c.private_key_pem(), "");
    EXPECT_EQ(c.chain_pem(), "");
  }
  grpc::ClientContext settings_ctx;
  mail::v1::ServerSettings effective;
  ASSERT_TRUE(Admin()->GetSettings(&settings_ctx, mail::v1::GetSettingsRequest(), &effective).ok());
  ASSERT_EQ(effective.certificates_size(), 2);
  for (const auto& c : effective.certificates()) EXPECT_EQ(c.private_key_pem(), "");

  // The frontends' endpoint lists and changes nothing.
  grpc::ClientContext frontend_ctx;
  mail::v1::GetCertificatesResponse denied;
  EXPECT_EQ(Frontend()
                ->GetCertificates(&frontend_ctx, mail::v1::GetCertificatesRequest(), &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CertificateServiceTest, CertificatesSurviveARestart) {
  common::CertificateAndKey a = Make("a.example.test");
  Import(a);
  ASSERT_TRUE(Enable(a.info.thumbprint, mail::v1::CERTIFICATE_SERVICE_SMTP).ok());
  Restart();
  mail::v1::ServerSettings watched = Watched();
  ASSERT_EQ(watched.certificates_size(), 1);
  EXPECT_EQ(watched.certificates(0).services(0), mail::v1::CERTIFICATE_SERVICE_SMTP);
  EXPECT_EQ(watched.certificates(0).private_key_pem(), a.private_key_pem);
}

TEST_F(CertificateServiceTest, RemoveOfAnEnabledCertificateNeedsForceAndIsAudited) {
  common::CertificateAndKey a = Make("a.example.test");
  Import(a);
  ASSERT_TRUE(Enable(a.info.thumbprint, mail::v1::CERTIFICATE_SERVICE_POP).ok());
  mail::v1::RemoveCertificateRequest req;
  req.set_thumbprint(a.info.thumbprint);
  mail::v1::Certificate removed;
  {
    grpc::ClientContext ctx;
    grpc::Status s = Admin()->RemoveCertificate(&ctx, req, &removed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_NE(s.error_message().find("is enabled for POP"), std::string::npos);
  }
  req.set_force(true);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(Admin()->RemoveCertificate(&ctx, req, &removed).ok());
  }
  EXPECT_EQ(Watched().certificates_size(), 0);
  {
    grpc::ClientContext ctx;
    mail::v1::GetCertificatesResponse list;
    ASSERT_TRUE(Admin()->GetCertificates(&ctx, mail::v1::GetCertificatesRequest(), &list).ok());
    EXPECT_EQ(list.certificates_size(), 0);
  }
  auto control = mail::v1::Control::NewStub(admin_channel_);
  grpc::ClientContext ctx;
  mail::v1::GetAdminAuditLogResponse audit;
  ASSERT_TRUE(control->GetAdminAuditLog(&ctx, mail::v1::GetAdminAuditLogRequest(), &audit).ok());
  int imports = 0, removes = 0, failed_removes = 0;
  for (const auto& e : audit.entries()) {
    EXPECT_EQ(e.new_value().find("PRIVATE KEY"), std::string::npos);
    EXPECT_EQ(e.old_value().find("PRIVATE KEY"), std::string::npos);
    if (e.cmdlet() == "ImportCertificate") ++imports;
    if (e.cmdlet() == "RemoveCertificate") (e.succeeded() ? removes : failed_removes)++;
  }
  EXPECT_EQ(imports, 1);
  EXPECT_EQ(removes, 1);
  EXPECT_EQ(failed_removes, 1);
}

TEST_F(CertificateServiceTest, EnableAddsServicesAndNoneClearsThem) {
  common::CertificateAndKey a = Make("a.example.test");
  Import(a);
  ASSERT_TRUE(Enable(a.info.thumbprint, mail::v1::CERTIFICATE_SERVICE_SMTP).ok());
  // Lower case and colons, as people paste thumbprints.
  std::string pasted;
  for (size_t i = 0; i < a.info.thumbprint.size(); i += 2) {
    if (!pasted.empty()) pasted += ":";
    pasted += a.info.thumbprint.substr(i, 2);
  }
  for (char& c : pasted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  ASSERT_TRUE(Enable(pasted, mail::v1::CERTIFICATE_SERVICE_IMAP).ok());
  mail::v1::ServerSettings watched = Watched();
  ASSERT_EQ(watched.certificates_size(), 1);
  ASSERT_EQ(watched.certificates(0).services_size(), 2);
  EXPECT_EQ(watched.certificates(0).services(0), mail::v1::CERTIFICATE_SERVICE_IMAP);
  EXPECT_EQ(watched.certificates(0).services(1), mail::v1::CERTIFICATE_SERVICE_SMTP);

  grpc::ClientContext ctx;
  mail::v1::EnableCertificateRequest req;
  req.set_thumbprint(a.info.thumbprint);
  req.set_clear(true);
  mail::v1::Certificate resp;
  ASSERT_TRUE(Admin()->EnableCertificate(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.services_size(), 0);
  EXPECT_EQ(Watched().certificates_size(), 0);

  EXPECT_EQ(Enable(std::string(40, 'A'), mail::v1::CERTIFICATE_SERVICE_IMAP).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace mailboxstore::testing
