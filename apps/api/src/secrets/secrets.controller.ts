import { Body, Controller, Delete, Get, HttpCode, Param, Put, Res } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsString } from 'class-validator';
import { SecretsService, type SecretInfo } from '@danube/secrets';
import type { Response } from 'express';

export class PutSecretDto {
  @ApiProperty({ description: 'The value; stored encrypted and never returned', writeOnly: true })
  @IsString()
  value!: string;
}

function secretView(secret: SecretInfo) {
  return {
    name: secret.name,
    keyId: secret.keyId,
    createdAt: secret.createdAt,
    updatedAt: secret.updatedAt,
  };
}

/** Secrets: write-only values, readable only by jobs whose spec lists them. */
@ApiTags('secrets')
@Controller('v1/secrets')
export class SecretsController {
  constructor(private readonly secrets: SecretsService) {}

  @Put(':name')
  @ApiOperation({ summary: 'Create (201) or replace (200) a secret; the response has no value' })
  async put(
    @Param('name') name: string,
    @Body() dto: PutSecretDto,
    @Res({ passthrough: true }) res: Response,
  ) {
    const { created, ...secret } = await this.secrets.put(name, dto.value);
    res.status(created ? 201 : 200);
    return secretView(secret);
  }

  @Get()
  @ApiOperation({ summary: 'Secret names and timestamps (never values)' })
  async list() {
    return { items: (await this.secrets.list()).map(secretView) };
  }

  @Delete(':name')
  @HttpCode(204)
  async delete(@Param('name') name: string): Promise<void> {
    await this.secrets.delete(name);
  }
}
