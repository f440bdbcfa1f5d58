#include "auth/auth_store.h"

#include <gtest/gtest.h>

#include "auth/password.h"
#include "core/testing/temp_dir.h"

namespace mlforge::auth {
namespace {

TEST(PasswordTest, HashesAreSaltedAndVerify) {
  std::string first = HashPassword("correct horse", 1000);
  std::string second = HashPassword("correct horse", 1000);
  EXPECT_NE(first, second);
  EXPECT_EQ(first.rfind("pbkdf2:sha256:1000$", 0), 0u) << first;
  EXPECT_TRUE(VerifyPassword("correct horse", first));
  EXPECT_TRUE(VerifyPassword("correct horse", second));
  EXPECT_FALSE(VerifyPassword("correct horsE", first));
  EXPECT_FALSE(VerifyPassword("correct horse", "pbkdf2:sha256:x$ab$cd"));
  EXPECT_FALSE(VerifyPassword("correct horse", "plain"));
}

TEST(PasswordTest, TokensAreRandomAndOnlyTheirDigestIsKept) {
  std::string token = NewAccessToken();
  EXPECT_EQ(token.rfind("mlf_", 0), 0u);
  EXPECT_EQ(token.size(), 4u + 64u);
  EXPECT_NE(token, NewAccessToken());
  EXPECT_EQ(TokenDigest(token).size(), 64u);
  EXPECT_EQ(TokenDigest(token).find(token.substr(4, 16)), std::string::npos);
}

TEST(PermissionTest, NamesAndWhatEachAllows) {
  EXPECT_EQ(*ParsePermission("EDIT"), Permission::kEdit);
  EXPECT_FALSE(ParsePermission("edit").ok());
  EXPECT_TRUE(Allows(Permission::kRead, Action::kRead));
  EXPECT_FALSE(Allows(Permission::kRead, Action::kUpdate));
  EXPECT_TRUE(Allows(Permission::kEdit, Action::kUpdate));
  EXPECT_FALSE(Allows(Permission::kEdit, Action::kDelete));
  EXPECT_TRUE(Allows(Permission::kManage, Action::kManage));
  EXPECT_FALSE(Allows(Permission::kNoPermissions, Action::kRead));
}

class AuthStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = AuthStore::Open((dir_.path() / "auth.db").string());
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
  }
  core::testing::ScopedTempDir dir_;
  std::unique_ptr<AuthStore> store_;
};

TEST_F(AuthStoreTest, UsersAuthenticateAndSurviveReopen) {
  ASSERT_TRUE(store_->CreateUser("alice", "wonderland", false).ok());
  EXPECT_EQ(store_->CreateUser("alice", "again", false).status().code(),
            core::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateUser("bob", "", false).status().code(), core::StatusCode::kInvalidArgument);
  core::Result<User> alice = store_->Authenticate("alice", "wonderland");
  ASSERT_TRUE(alice.ok());
  EXPECT_FALSE(alice->is_admin);
  EXPECT_EQ(store_->Authenticate("alice", "Wonderland").status().code(),
            core::StatusCode::kUnauthenticated);
  EXPECT_EQ(store_->Authenticate("nobody", "x").status().code(), core::StatusCode::kUnauthenticated);

  // A changed password retires the remembered check of the old one.
  ASSERT_TRUE(store_->UpdatePassword("alice", "looking-glass").ok());
  EXPECT_FALSE(store_->Authenticate("alice", "wonderland").ok());
  EXPECT_TRUE(store_->Authenticate("alice", "looking-glass").ok());
  ASSERT_TRUE(store_->UpdateAdmin("alice", true).ok());

  store_.reset();
  auto reopened = AuthStore::Open((dir_.path() / "auth.db").string());
  ASSERT_TRUE(reopened.ok());
  core::Result<User> again = (*reopened)->Authenticate("alice", "looking-glass");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->is_admin);
  ASSERT_TRUE((*reopened)->DeleteUser("alice").ok());
  EXPECT_FALSE((*reopened)->Authenticate("alice", "looking-glass").ok());
  EXPECT_EQ((*reopened)->DeleteUser("alice").code(), core::StatusCode::kNotFound);
}

TEST_F(AuthStoreTest, TokensNameTheirOwnerAndExpire) {
  ASSERT_TRUE(store_->CreateUser("carol", "pw", false).ok());
  core::Result<std::string> token = store_->CreateToken("carol", "ci", std::nullopt);
  ASSERT_TRUE(token.ok());
  core::Result<User> owner = store_->AuthenticateToken(*token);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(owner->username, "carol");
  EXPECT_FALSE(store_->AuthenticateToken(*token + "0").ok());
  core::Result<std::string> expired = store_->CreateToken("carol", "old", 1);
  ASSERT_TRUE(expired.ok());
  EXPECT_EQ(store_->AuthenticateToken(*expired).status().code(), core::StatusCode::kUnauthenticated);
  ASSERT_TRUE(store_->DeleteUser("carol").ok());
  EXPECT_FALSE(store_->AuthenticateToken(*token).ok());
}

TEST_F(AuthStoreTest, PermissionsCreateGetUpdateDeleteAndFollowRenames) {
  ASSERT_TRUE(store_->CreateUser("dave", "pw", false).ok());
  core::Result<User> dave = store_->GetUser("dave");
  ASSERT_TRUE(dave.ok());
  ASSERT_TRUE(store_->CreateExperimentPermission("7", "dave", Permission::kEdit).ok());
  EXPECT_EQ(store_->CreateExperimentPermission("7", "dave", Permission::kRead).status().code(),
            core::StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateExperimentPermission("7", "eve", Permission::kRead).status().code(),
            core::StatusCode::kNotFound);
  EXPECT_EQ(*store_->ExperimentPermissionOf(dave->id, "7"), Permission::kEdit);
  EXPECT_EQ(*store_->ExperimentPermissionOf(dave->id, "8"), std::nullopt);
  ASSERT_TRUE(store_->UpdateExperimentPermission("7", "dave", Permission::kManage).ok());
  EXPECT_EQ(store_->GetExperimentPermission("7", "dave")->permission, Permission::kManage);
  ASSERT_TRUE(store_->DeleteExperimentPermission("7", "dave").ok());
  EXPECT_EQ(store_->GetExperimentPermission("7", "dave").status().code(),
            core::StatusCode::kNotFound);

  ASSERT_TRUE(store_->CreateRegisteredModelPermission("mnist", "dave", Permission::kRead).ok());
  ASSERT_TRUE(store_->RenameRegisteredModelPermissions("mnist", "digits").ok());
  EXPECT_EQ(*store_->RegisteredModelPermissionOf(dave->id, "digits"), Permission::kRead);
  EXPECT_EQ(*store_->RegisteredModelPermissionOf(dave->id, "mnist"), std::nullopt);
  EXPECT_EQ(store_->RegisteredModelPermissionsOf(dave->id)->size(), 1u);
  ASSERT_TRUE(store_->DeleteRegisteredModelPermissions("digits").ok());
  EXPECT_TRUE(store_->RegisteredModelPermissionsOf(dave->id)->empty());
}

}  // namespace
}  // namespace mlforge::auth
