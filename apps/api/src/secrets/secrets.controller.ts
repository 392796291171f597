import { AuditService, Caller, type Principal } from '@danube/auth';
import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiTags,
} from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { SecretsService, type SecretInfo } from '@danube/secrets';
import type { Response } from 'express';

export class PutSecretDto {
  @ApiProperty({ description: 'The value; stored encrypted and never returned', writeOnly: true })
  @IsString()
  value!: string;
}

/** A secret as the API shows it: never its value. */
export class SecretResponse {
  @ApiProperty()
  name!: string;
  @ApiProperty({ description: 'The DANUBE_SECRET_KEY key it is encrypted under' })
  keyId!: string;
  @ApiProperty({ type: String, format: 'date-time' })
  createdAt!: Date;
  @ApiProperty({ type: String, format: 'date-time' })
  updatedAt!: Date;

  static of(secret: SecretInfo): SecretResponse {
    return { ...secret };
  }
}

export class SecretList {
  @ApiProperty({ type: [SecretResponse] })
  items!: SecretResponse[];
}

/** Secrets: write-only values, readable only by jobs whose spec lists them. */
@ApiTags('secrets')
@Controller('v1/secrets')
export class SecretsController {
  constructor(
    private readonly secrets: SecretsService,
    private readonly audit: AuditService,
  ) {}

  @Put(':name')
  @ApiOperation({ summary: 'Create (201) or replace (200) a secret; the response has no value' })
  @ApiCreatedResponse({ type: SecretResponse, description: 'Created' })
  @ApiOkResponse({ type: SecretResponse, description: 'Replaced' })
  async put(
    @Param('name') name: string,
    @Body() dto: PutSecretDto,
    @Caller() caller: Principal,
    @Res({ passthrough: true }) res: Response,
  ): Promise<SecretResponse> {
    const { created, ...secret } = await this.secrets.put(caller.tenant, name, dto.value);
    await this.audit.record(caller, created ? 'secret.create' : 'secret.replace', `secret/${name}`);
    res.status(created ? 201 : 200);
    return SecretResponse.of(secret);
  }

  @Get()
  @ApiOperation({ summary: 'Secret names and timestamps (never values)' })
  @ApiOkResponse({ type: SecretList })
  async list(@Caller() caller: Principal): Promise<SecretList> {
    return { items: (await this.secrets.list(caller.tenant)).map(SecretResponse.of) };
  }

  @Delete(':name')
  @HttpCode(204)
  async delete(@Param('name') name: string, @Caller() caller: Principal): Promise<void> {
    await this.secrets.delete(caller.tenant, name);
    await this.audit.record(caller, 'secret.delete', `secret/${name}`);
  }
}
